-- One wrk script for every scenario of bench/run. SCENARIO picks what each request does:
--   page      GET /products, the signed-in products page (full server-rendered HTML)
--   list      the product-list server function, first page
--   api_list  the same first page from the JSON API, with a read-only API token
--   order     place an order for 1-2 units of one of the tenant's scarce ("hot") products
--   order_cold  the same with plentiful products (with ACK_DIR set, acknowledged order ids are
--             written there, to check after a fault that every one of them was kept)
--   sign_in   sign in with the tenant owner's email and password
--   mixed     70% list, 15% page, 10% dashboard, 5% orders of plentiful products
--   steady    the list, each connection pausing 100 ms between requests (about 10 a second)
--   picker    the order form's product search, as people type: every prefix of a product's
--             name ("P", "Pr", ... "Product 48213") or SKU, one after another per thread
-- Every request goes to a random signed-in session, i.e. a random tenant, on its own host.
-- done() prints one JSON line that bench/run parses.

local scenario = os.getenv("SCENARIO") or "list"
local sessions = {}
local acked = nil
-- Globals, not locals: wrk's thread:get/set reach only globals of each thread's state.
statuses = {}
thread_id = 0

local paths = {
  list = os.getenv("PATH_LIST"),
  order = os.getenv("PATH_ORDER"),
  sign_in = os.getenv("PATH_SIGN_IN"),
  dashboard = os.getenv("PATH_DASHBOARD"),
  picker = os.getenv("PATH_PICKER"),
}
-- The picker's catalogue: names "Product 1".."Product N", SKUs "SKU-000001".. (server generate).
local picker_products = tonumber(os.getenv("PICKER_PRODUCTS") or "100000")

local threads = {}
local next_id = 1
function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s, "([^" .. sep .. "]+)") do
    table.insert(out, part)
  end
  return out
end

function init(args)
  -- host \t cookie \t email \t hot product ids (comma) \t plentiful product ids (comma)
  -- \t tenant id \t API token \t a customer's id
  for line in io.lines(os.getenv("SESSIONS_FILE")) do
    local f = split(line, "\t")
    table.insert(sessions, { host = f[1], cookie = f[2], email = f[3], hot = split(f[4] or "", ","), cold = split(f[5] or "", ","), token = f[7], customer = f[8] or "" })
  end
  math.randomseed(os.time() + thread_id * 7919)
  local ack_dir = os.getenv("ACK_DIR")
  if ack_dir then
    acked = io.open(ack_dir .. "/acked-" .. thread_id .. ".txt", "w")
  end
end

local form = "application/x-www-form-urlencoded"

local function call(session, path, body)
  return wrk.format("POST", path, {
    ["Host"] = session.host,
    ["Cookie"] = session.cookie,
    ["Content-Type"] = form,
    ["Accept-Encoding"] = "br, gzip",
    ["Sec-Fetch-Site"] = "same-origin",
  }, body or "")
end

local function page(session, path)
  return wrk.format("GET", path, {
    ["Host"] = session.host,
    ["Cookie"] = session.cookie,
    ["Accept"] = "text/html",
    ["Accept-Encoding"] = "br, gzip",
  })
end

local function api(session, path)
  return wrk.format("GET", path, {
    ["Host"] = session.host,
    ["Authorization"] = "Bearer " .. session.token,
    ["Accept-Encoding"] = "br, gzip",
  })
end

local function order(session, products)
  local product = products[math.random(#products)]
  local quantity = math.random(2)
  return call(session, paths.order, "customer_id=" .. session.customer .. "&lines%5B0%5D%5Bproduct_id%5D=" .. product .. "&lines%5B0%5D%5Bquantity%5D=" .. quantity)
end

-- What this thread is typing, and how much of it is typed.
local typing, typed = "", 0
local function picker(session)
  if typed >= #typing then
    local n = math.random(picker_products)
    if math.random(10) <= 7 then
      typing = "Product " .. n
    else
      typing = string.format("SKU-%06d", n)
    end
    typed = 0
  end
  typed = typed + 1
  local term = string.sub(typing, 1, typed):gsub(" ", "%%20")
  return call(session, paths.picker, "search=" .. term)
end

local function sign_in(session)
  local s = { host = session.host, cookie = "" }
  return call(s, paths.sign_in, "email=" .. session.email:gsub("@", "%%40") .. "&password=" .. os.getenv("BENCH_PASSWORD"))
end

-- wrk paces a connection only when the script defines delay(), so only the paced scenarios
-- define it: steady, and picker_paced (a typist's searches: the order form sends one only
-- after a 200 ms pause in the typing, so 100 ms is twice as fast as any typist can).
if scenario == "steady" or scenario == "picker_paced" then
  function delay()
    return 100
  end
end

-- Sign-ins go round the accounts in turn, each thread over its own half, so no account has
-- two attempts in flight at once (64 connections, 100 accounts): the per-account throttle
-- counts an attempt as a failure until its password is checked, and refuses an account that
-- many people try at the same moment, which is right for an attack but not what this measures.
signed_in = 0
local function next_sign_in()
  signed_in = signed_in + 1
  local index = ((signed_in * 2 + thread_id) % #sessions) + 1
  return sessions[index]
end

function request()
  local session = sessions[math.random(#sessions)]
  if scenario == "sign_in" then
    session = next_sign_in()
  end
  if scenario == "page" then
    return page(session, "/products")
  elseif scenario == "list" or scenario == "steady" then
    return call(session, paths.list)
  elseif scenario == "api_list" then
    return api(session, "/api/v1/products?limit=25")
  elseif scenario == "order" then
    return order(session, session.hot)
  elseif scenario == "order_cold" then
    return order(session, session.cold)
  elseif scenario == "sign_in" then
    return sign_in(session)
  elseif scenario == "picker" or scenario == "picker_paced" then
    return picker(session)
  else
    local roll = math.random(100)
    if roll <= 70 then
      return call(session, paths.list)
    elseif roll <= 85 then
      return page(session, "/products")
    elseif roll <= 95 then
      return call(session, paths.dashboard)
    else
      return order(session, session.cold)
    end
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if acked and (status == 200 or status == 302) then
    local location = headers["Location"] or headers["location"]
    if location and location:match("^/orders/") then
      acked:write(location:sub(9), "\n")
      acked:flush()
    end
  end
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, n in pairs(counts) do
      merged[status] = (merged[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(merged) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local errors = summary.errors
  io.write(string.format(
    '{"scenario": "%s", "requests": %d, "seconds": %.2f, "rps": %.1f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "non_2xx_3xx": %d, "socket_errors": %d, "statuses": {%s}}\n',
    scenario, summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    table.concat(parts, ", ")))
end
