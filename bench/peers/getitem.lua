-- wrk script: a consistent GetItem straight to dynalite (the load benchmark's dynalite-getitem
-- target, the ceiling of any session store on this machine). dynalite checks that a request is
-- signed, not the signature, so one fixed signed-looking request serves every call.
-- TABLE and ITEM_ID come from the environment.
wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.GetItem"
wrk.headers["X-Amz-Date"] = os.date("!%Y%m%dT%H%M%SZ")
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=benchfake/" .. os.date("!%Y%m%d") ..
  "/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" ..
  string.rep("0", 64)
wrk.body = '{"TableName":"' .. os.getenv("TABLE") .. '","Key":{"id":{"S":"' .. os.getenv("ITEM_ID") ..
  '"}},"ConsistentRead":true}'
