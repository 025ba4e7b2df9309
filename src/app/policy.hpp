// app/policy: the caching policy the configuration asks for. Pure; unit-tested.
#pragma once

#include "config/config.hpp"
#include "service/policy.hpp"

namespace cachelab::app {

service::Policy policy_from(const config::ServeConfig& c);

}  // namespace cachelab::app
