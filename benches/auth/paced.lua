-- wrk script: each connection sends one request every WRK_INTERVAL_MS (so -c N gives
-- N * 1000 / WRK_INTERVAL_MS requests per second), with the headers and body given in the
-- environment: WRK_METHOD, WRK_TOKEN (bearer), WRK_COOKIE, WRK_BODY. WRK_VARY=1 makes every
-- request a different one (`&threshold_s=` counting up), so no answer can come from a cache.
local interval = tonumber(os.getenv("WRK_INTERVAL_MS") or "0")
local method = os.getenv("WRK_METHOD") or "GET"
local token = os.getenv("WRK_TOKEN")
local cookie = os.getenv("WRK_COOKIE")
local body = os.getenv("WRK_BODY")
local vary = os.getenv("WRK_VARY") == "1"
local sent = 0

local headers = {}
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
if cookie and cookie ~= "" then headers["Cookie"] = cookie end
if body and body ~= "" then headers["Content-Type"] = "application/json" end

function request()
  local path = nil
  if vary then
    sent = sent + 1
    path = wrk.path .. "&threshold_s=" .. (20 + sent / 1000)
  end
  return wrk.format(method, path, headers, body)
end

if interval > 0 then
  function delay()
    return interval
  end
end

local errors = 0
function response(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("non-200: %d\n", summary.errors.status))
end
