-- Replays pre-signed, unique deposits; each wrk thread reads its own file so no deposit repeats.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  requests, created, other = {}, 0, 0
  for line in io.lines(args[1] .. "/requests_" .. id .. ".txt") do
    local auth, ts, nonce, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
    requests[#requests + 1] = wrk.format("POST", "/api/v1/kiosk/deposits", {
      ["Authorization"] = auth, ["X-Timestamp"] = ts, ["X-Nonce"] = nonce,
      ["Content-Type"] = "application/json",
    }, body)
  end
  index = 0
end

function request()
  index = index + 1
  if index > #requests then index = 1 end
  return requests[index]
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("created")
    o = o + thread:get("other")
  end
  io.write(string.format("CREATED %d OTHER %d\n", c, o))
end
