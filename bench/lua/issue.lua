-- POST issuance requests of $BENCH_OUTCOMES outcomes each to /api/v1/credentials with the
-- issuer token $BENCH_TOKEN: learners BENCH-0000..BENCH-(n-1), one unique session a request.
local threads = {}
local counter = 0
local size = tonumber(os.getenv("BENCH_OUTCOMES") or "10")
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
}
created = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local session = string.format("load-%d-%d-%d", os.time(), id, counter)
  local outcomes = {}
  for n = 1, size do
    outcomes[n] = string.format(
      '{"national_id":"BENCH-%04d","unit":"U%03d","session":"%s","grade":"A",'
        .. '"completed_on":"2025-06-30"}', n, n % 20, session)
  end
  local body = '{"outcomes":[' .. table.concat(outcomes, ",") .. "]}"
  return wrk.format("POST", "/api/v1/credentials", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("created")
  end
  io.write(string.format("bench created: %d\n", total))
end
