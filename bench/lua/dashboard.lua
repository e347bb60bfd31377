-- GET $BENCH_PATH (a page of the learner's record) with the learner tokens in $BENCH_TOKENS
-- (one a line), in turn.
local requests = {}
local index = 0

function init(args)
  for token in io.lines(os.getenv("BENCH_TOKENS")) do
    requests[#requests + 1] = wrk.format("GET", os.getenv("BENCH_PATH"),
      { ["Authorization"] = "Bearer " .. token })
  end
  index = math.random(#requests)
end

function request()
  index = index % #requests + 1
  return requests[index]
end
