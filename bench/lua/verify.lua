-- POST the credentials in $BENCH_BODIES (one JSON document a line) to /api/v1/verify in turn,
-- and count the answers whose verdict is not VALID.
local threads = {}
local bodies = {}
local index = 0
invalid = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    bodies[#bodies + 1] = wrk.format("POST", "/api/v1/verify", headers, line)
  end
  index = math.random(#bodies)
end

function request()
  index = index % #bodies + 1
  return bodies[index]
end

function response(status, headers, body)
  if status ~= 200 or not body:find('"verdict":%s*"VALID"') then
    invalid = invalid + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("invalid")
  end
  io.write(string.format("bench not_valid: %d\n", total))
end
