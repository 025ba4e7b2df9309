// The PostgreSQL side of the catalog: db::Catalog and db::Inspector over one pool, running the prepared
// statements of db/statements.cpp and turning their rows into model structs (db/rows).
#include "core/log.hpp"
#include "db/pg_pool.hpp"
#include "db/postgres.hpp"
#include "db/rows.hpp"
#include "db/statements.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>

namespace cachelab::db {
namespace {

class PgCatalog final : public Catalog, public Inspector {
 public:
  PgCatalog(asio::any_io_executor ex, PostgresOptions options)
      : ex_(ex),
        timeout_(options.timeout),
        ping_timeout_(options.ping_timeout),
        delay_(options.read_delay),
        slow_query_(options.slow_query),
        metrics_(options.metrics),
        own_writes_(options.own_writes ? options.own_writes
                                       : std::make_shared<std::atomic<std::uint64_t>>(0)),
        pool_(PgPool::create(ex, pool_options(options, options.conninfo))) {
    if (!options.read_conninfo.empty()) {
      // The replica's own pool: its failures count in the replica's outcome, not the primary's figures, and a
      // caller never waits out a replica outage (the primary answers at once instead). A failed replica is
      // tried again once a second, not every 100 ms: each try may cost a read up to its connect timeout.
      auto replica = pool_options(options, options.read_conninfo);
      replica.metrics = PoolMetrics{};
      replica.outage_wait = std::chrono::milliseconds(0);
      replica.breaker_open = std::chrono::milliseconds(1000);
      replica_ = PgPool::create(ex, std::move(replica));
    }
  }

  asio::awaitable<Result<std::optional<model::Product>>> product_by_id(std::int64_t id,
                                                                       WalFence after) override {
    Query q{"product_by_id", {std::to_string(id)}};
    auto results = co_await run_read({&q, 1}, after);
    if (!results) co_return results.error();
    const auto& r = (*results)[0];
    if (r.rows() == 0) co_return std::optional<model::Product>{};
    co_return std::optional<model::Product>{product_from_row(r, 0)};
  }

  asio::awaitable<Result<model::ProductPage>> products_page(int limit, std::int64_t offset,
                                                            WalFence after) override {
    Query qs[] = {{"products_page", {std::to_string(limit), std::to_string(offset)}}, {"products_count", {}}};
    auto results = co_await run_read(qs, after);
    if (!results) co_return results.error();
    model::ProductPage page{{}, count_of((*results)[1]), limit, offset};
    const auto& rows = (*results)[0];
    page.items.reserve(rows.rows());
    for (int i = 0; i < rows.rows(); ++i) page.items.push_back(product_from_row(rows, i));
    co_return page;
  }

  asio::awaitable<Result<std::vector<model::CategoryStats>>> category_stats(WalFence after) override {
    Query q{"category_stats", {}};
    auto results = co_await run_read({&q, 1}, after);
    if (!results) co_return results.error();
    const auto& r = (*results)[0];
    std::vector<model::CategoryStats> out;
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) out.push_back(category_from_row(r, i));
    co_return out;
  }

  asio::awaitable<Result<model::SearchPage>> search(std::string_view query, int limit, std::int64_t offset,
                                                    WalFence after) override {
    auto pattern = literal_ilike_pattern(query);
    Query qs[] = {
        {"search_page", {std::string(query), pattern, std::to_string(limit), std::to_string(offset)}},
        {"search_count", {pattern}}};
    auto results = co_await run_read(qs, after);
    if (!results) co_return results.error();
    model::SearchPage page{std::string(query), {}, count_of((*results)[1]), limit, offset};
    const auto& r = (*results)[0];
    for (int i = 0; i < r.rows(); ++i) page.items.push_back(search_hit_from_row(r, i));
    co_return page;
  }

  asio::awaitable<Result<model::TopProducts>> top_products(int limit, int min_reviews,
                                                           WalFence after) override {
    Query q{"top_products", {std::to_string(limit), std::to_string(min_reviews)}};
    auto results = co_await run_read({&q, 1}, after);
    if (!results) co_return results.error();
    const auto& r = (*results)[0];
    model::TopProducts top{{}, min_reviews, limit};
    for (int i = 0; i < r.rows(); ++i) top.items.push_back(top_product_from_row(r, i));
    co_return top;
  }

  asio::awaitable<Result<model::Product>> create_product(const model::ProductDraft& d) override {
    auto category = co_await category_id(d.category);
    if (!category) co_return category.error();
    Query q{"product_insert", {d.name, d.description, d.price, *category}};
    auto results = co_await run({&q, 1});
    if (!results) co_return results.error();
    co_await note_write();
    co_return product_from_row((*results)[0], 0);
  }

  asio::awaitable<Result<model::Product>> update_product(std::int64_t id,
                                                         const model::ProductPatch& patch) override {
    std::optional<std::string> category;
    if (patch.category) {
      auto found = co_await category_id(*patch.category);
      if (!found) co_return found.error();
      category = *found;
    }
    Query q{"product_update", {std::to_string(id), patch.name, patch.description, patch.price, category}};
    auto results = co_await run({&q, 1});
    if (!results) co_return results.error();
    if ((*results)[0].rows() == 0) co_return no_such_product(id);
    co_await note_write();
    co_return product_from_row((*results)[0], 0);
  }

  asio::awaitable<Result<void>> remove_product(std::int64_t id) override {
    Query q{"product_delete", {std::to_string(id)}};
    auto results = co_await run({&q, 1});
    if (!results) co_return results.error();
    if ((*results)[0].rows() == 0) co_return no_such_product(id);
    co_await note_write();
    co_return Result<void>{};
  }

  WalFence written() const override { return replica_ ? own_writes_->load(std::memory_order_acquire) : 0; }

  // Readiness has a deadline of its own, shorter than a query's: a load balancer wants its answer quickly.
  asio::awaitable<Result<void>> ping() override {
    Query q{"ping", {}};
    auto results = co_await run({&q, 1}, Clock::now() + ping_timeout_);
    if (!results) co_return results.error();
    co_return Result<void>{};
  }

  asio::awaitable<Result<std::vector<model::QueryPlan>>> explain(std::string_view endpoint) override {
    const auto chosen = statements_for(endpoint);
    if (chosen.empty()) co_return make_error(ErrorKind::invalid_argument, "no statements for that endpoint");
    std::vector<model::QueryPlan> plans;
    for (const Statement* s : chosen) {
      const std::string sql = std::string("EXPLAIN (ANALYZE, BUFFERS) ") + s->sql;
      Query query{nullptr, {s->sample_params.begin(), s->sample_params.end()}, sql.c_str()};
      auto results = co_await run({&query, 1});
      if (!results) co_return results.error();
      model::QueryPlan plan{s->sql, s->sample_params, {}};
      const auto& r = (*results)[0];
      for (int i = 0; i < r.rows(); ++i) {
        plan.plan += r.get(i, 0);
        plan.plan += '\n';
      }
      plans.push_back(std::move(plan));
    }
    co_return plans;
  }

 private:
  static Error no_such_product(std::int64_t id) {
    return make_error(ErrorKind::not_found, "product " + std::to_string(id) + " does not exist");
  }

  // A category's id by name; invalid_argument when there is no such category.
  asio::awaitable<Result<std::string>> category_id(const std::string& name) {
    Query q{"category_id", {name}};
    auto results = co_await run({&q, 1});
    if (!results) co_return results.error();
    if ((*results)[0].rows() == 0) {
      co_return make_error(ErrorKind::invalid_argument, "unknown category '" + name + "'");
    }
    co_return std::string((*results)[0].get(0, 0));
  }

  static PoolOptions pool_options(const PostgresOptions& o, const std::string& conninfo) {
    return PoolOptions{.conninfo = conninfo,
                       .max_size = o.pool_size,
                       .pipeline_depth = o.pipeline_depth,
                       .statement_timeout_ms = static_cast<int>(o.timeout.count()),
                       .connect_timeout = o.connect_timeout,
                       .outage_wait = o.outage_wait,
                       .statements = statements(),
                       .metrics = o.metrics};
  }

  // After a committed write, with a replica: the primary's WAL position now, which is at or past the commit,
  // raises this process's fence. Should the primary fail between the two round trips, the fence stays where
  // it was and the failure is logged: the write itself is committed, and is not reported as failed.
  asio::awaitable<void> note_write() {
    if (!replica_) co_return;
    Query q{"wal_position", {}};
    auto results = co_await run({&q, 1});
    std::uint64_t at = 0;
    if (!results || !parse_position((*results)[0], at)) {
      spdlog::warn("event=wal_position_failed detail={}",
                   log_quote(results ? "unexpected reply" : results.error().message));
      co_return;
    }
    auto seen = own_writes_->load(std::memory_order_relaxed);
    while (seen < at && !own_writes_->compare_exchange_weak(seen, at, std::memory_order_acq_rel)) {
    }
  }

  static bool parse_position(const PgResult& r, std::uint64_t& out) {
    if (r.rows() != 1) return false;
    const std::string_view text = r.get(0, 0);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
  }

  // A read on the replica, when one is configured and has replayed up to `after` and this process's own
  // writes. A connection that has already seen the replica replay that far reads at once; otherwise the
  // replay position is asked for in the same pipeline, before the read's statements, so the statements (each
  // with its own snapshot, read committed) see at least what had been replayed by then. Nothing when the
  // replica is behind or failed: the caller reads the primary.
  asio::awaitable<std::optional<std::vector<PgResult>>> read_replica(std::span<const Query> queries,
                                                                     WalFence after, Clock::time_point by) {
    const WalFence need = std::max(after, own_writes_->load(std::memory_order_acquire));
    auto lease = co_await replica_->acquire(by);
    if (!lease) {
      metrics_.replica_failed.inc();
      co_return std::nullopt;
    }
    const bool check = need > (*lease)->replayed_seen();
    std::vector<Query> fenced;
    fenced.reserve(queries.size() + 1);
    if (check) fenced.push_back(Query{"replayed_position", {}});
    fenced.insert(fenced.end(), queries.begin(), queries.end());
    const auto started = Clock::now();
    auto results = co_await (*lease)->run(fenced, by);
    metrics_.query_seconds.observe(Clock::now() - started);
    if (!results) {
      metrics_.replica_failed.inc();
      co_return std::nullopt;
    }
    if (check) {
      std::uint64_t replayed = 0;
      if (!parse_position((*results)[0], replayed)) {
        metrics_.replica_failed.inc();
        co_return std::nullopt;
      }
      (*lease)->saw_replayed(replayed);
      if (replayed < need) {
        metrics_.replica_behind.inc();
        co_return std::nullopt;
      }
      results->erase(results->begin());
    }
    metrics_.replica_served.inc();
    co_return std::move(*results);
  }

  // A read behind an endpoint: first the simulated latency (--db-delay-ms), on a timer, so the wait holds
  // neither an I/O thread nor a pooled connection. Writes, pings and EXPLAIN are never slowed artificially.
  // With a replica, the read goes there first (read_replica()), the primary answering when it cannot.
  asio::awaitable<Result<std::vector<PgResult>>> run_read(std::span<const Query> queries, WalFence after) {
    if (delay_.count() > 0) {
      asio::steady_timer delay(ex_, delay_);
      co_await delay.async_wait(asio::use_awaitable);
    }
    if (replica_) {
      // Half the deadline at most, so that the primary still has time after a replica that hung.
      auto served = co_await read_replica(queries, after, Clock::now() + timeout_ / 2);
      if (served) co_return std::move(*served);
    }
    // A read is idempotent: when its connection broke under it (PostgreSQL restarted, pg_terminate_backend),
    // it is sent once more on a fresh connection, within the same deadline.
    const auto deadline = Clock::now() + timeout_;
    bool broke = false;
    auto results = co_await run(queries, deadline, &broke);
    if (!results && broke && Clock::now() < deadline) results = co_await run(queries, deadline);
    co_return results;
  }

  // `broke` (if given) says whether a failure came from the connection breaking while in use.
  asio::awaitable<Result<std::vector<PgResult>>> run(std::span<const Query> queries,
                                                     std::optional<Clock::time_point> by = std::nullopt,
                                                     bool* broke = nullptr) {
    const auto deadline = by.value_or(Clock::now() + timeout_);
    auto lease = co_await pool_->acquire(deadline);
    if (!lease) co_return lease.error();
    const auto started = Clock::now();
    auto results = co_await (*lease)->run(queries, deadline);
    const auto took = Clock::now() - started;
    metrics_.query_seconds.observe(took);
    if (slow_query_.count() > 0 && took > slow_query_) log_slow(queries, took);
    if (!results && broke != nullptr)
      *broke = !(*lease)->healthy() && results.error().kind != ErrorKind::timeout;
    co_return results;
  }

  // The statements by name (the SQL is in db/statements) and their parameters: the catalog's own values (ids,
  // search text, product fields), never credentials, which no statement takes.
  static void log_slow(std::span<const Query> queries, Clock::duration took) {
    std::string names, params;
    std::string_view endpoint = "-";  // the read endpoint the statements serve; "-" for writes and pings
    for (const auto& q : queries) {
      if (!names.empty()) names += ',';
      names += q.statement ? q.statement : "sql";
      for (const auto& s : statements()) {
        if (q.statement && s.endpoint && std::string_view(s.name) == q.statement) endpoint = s.endpoint;
      }
      for (const auto& p : q.params) {
        if (!params.empty()) params += ',';
        params += p.value_or("NULL");
      }
    }
    spdlog::warn("event=slow_query endpoint={} statements={} params={} ms={:.3f}", endpoint, names,
                 log_quote(params), std::chrono::duration<double, std::milli>(took).count());
  }

  asio::any_io_executor ex_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds ping_timeout_;
  std::chrono::milliseconds delay_;
  std::chrono::milliseconds slow_query_;
  PoolMetrics metrics_;
  std::shared_ptr<std::atomic<std::uint64_t>> own_writes_;  // shared by every thread's catalog
  std::shared_ptr<PgPool> pool_;
  std::shared_ptr<PgPool> replica_;  // null: no read replica
};

}  // namespace

Postgres make_postgres(asio::any_io_executor ex, PostgresOptions options) {
  auto pg = std::make_shared<PgCatalog>(ex, std::move(options));
  return Postgres{pg, pg};
}

}  // namespace cachelab::db
