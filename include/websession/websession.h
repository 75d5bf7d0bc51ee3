// The umbrella header: everything websession offers.
#pragma once

#include "websession/result.h"
#include "websession/values.h"
#include "websession/session_id.h"
#include "websession/session_store.h"
#include "websession/memory_session_store.h"
#include "websession/session.h"
#include "websession/dynamodb/client.h"
#include "websession/dynamo_session_store.h"
#include "websession/http/cookie.h"
#include "websession/http/middleware.h"
#include "websession/oidc/jose.h"
#include "websession/oidc/tokens.h"
#include "websession/oidc/discovery.h"
#include "websession/oidc/flow.h"
#include "websession/oidc/relying_party.h"
