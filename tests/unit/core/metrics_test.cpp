#include "core/metrics.hpp"

#include "unit/support/resident_pages.hpp"

#include <gtest/gtest.h>

#include <array>
#include <stdexcept>
#include <thread>
#include <vector>

namespace cachelab::metrics {
namespace {

using namespace std::chrono_literals;

TEST(Metrics, CountersFromManyThreadsAddUp) {
  Registry r;
  const auto c = r.counter("things_total", "Things.");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.inc();
    });
  }
  for (auto& t : threads) t.join();
  c.inc(5);
  EXPECT_EQ(c.value(), 40005);
  EXPECT_NE(r.expose().find("# TYPE things_total counter\nthings_total 40005\n"), std::string::npos)
      << r.expose();
}

TEST(Metrics, TheSameLabelsGiveTheSameCellsAndOthersTheirOwn) {
  Registry r;
  const std::array<std::string, 2> names = {"route", "status"};
  const auto a = r.counter("requests_total", "Requests.", names, {"/x", "200"});
  const auto b = r.counter("requests_total", "Requests.", names, {"/x", "200"});
  const auto c = r.counter("requests_total", "Requests.", names, {"/y", "404"});
  a.inc();
  b.inc();
  c.inc(3);
  EXPECT_EQ(a.value(), 2);
  const auto text = r.expose();
  EXPECT_NE(text.find("requests_total{route=\"/x\",status=\"200\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("requests_total{route=\"/y\",status=\"404\"} 3\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("# TYPE requests_total"), text.rfind("# TYPE requests_total"));  // one family
}

TEST(Metrics, GaugesGoUpAndDownAcrossThreads) {
  Registry r;
  const auto g = r.gauge("in_use", "In use.");
  g.add(3);
  std::thread([&] { g.sub(1); }).join();  // a thread may give back what another took
  EXPECT_EQ(g.value(), 2);
}

TEST(Metrics, HistogramBucketsAreCumulativeAndAValueOnABoundIsInIt) {
  Registry r;
  const std::array<double, 3> bounds = {0.001, 0.01, 0.1};
  const auto h = r.histogram("took_seconds", "Took.", bounds);
  h.observe(500us);
  h.observe(1ms);  // on the bound: le="0.001"
  h.observe(50ms);
  h.observe(2s);
  EXPECT_EQ(h.count(), 4);
  const auto text = r.expose();
  EXPECT_NE(text.find("took_seconds_bucket{le=\"0.001\"} 2\n"
                      "took_seconds_bucket{le=\"0.01\"} 2\n"
                      "took_seconds_bucket{le=\"0.1\"} 3\n"
                      "took_seconds_bucket{le=\"+Inf\"} 4\n"
                      "took_seconds_sum 2.0515\n"
                      "took_seconds_count 4\n"),
            std::string::npos)
      << text;
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Registry r;
  const std::array<std::string, 1> names = {"q"};
  r.counter("odd_total", "A \\ and a\nline.", names, {"say \"hi\"\\\n"}).inc();
  const auto text = r.expose();
  EXPECT_NE(text.find("# HELP odd_total A \\\\ and a\\nline.\n"), std::string::npos) << text;
  EXPECT_NE(text.find("odd_total{q=\"say \\\"hi\\\"\\\\\\n\"} 1\n"), std::string::npos) << text;
}

TEST(Metrics, MisdeclarationsAreRefused) {
  Registry r(8);
  const std::array<std::string, 1> one = {"a"};
  r.counter("x_total", "X.", one, {"1"});
  EXPECT_THROW(r.gauge("x_total", "X.", one, {"1"}), std::logic_error);  // another type
  EXPECT_THROW(r.counter("x_total", "X."), std::logic_error);            // other labels
  EXPECT_THROW(r.counter("x_total", "X.", one, {}), std::logic_error);   // a value missing
  EXPECT_THROW(r.counter("bad-name", "X."), std::logic_error);
  const std::array<double, 2> unsorted = {0.1, 0.01};
  EXPECT_THROW(r.histogram("h_seconds", "H.", unsorted), std::logic_error);
  const std::array<double, 10> many = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_THROW(r.histogram("big_seconds", "H.", many), std::logic_error);  // out of cells
}

TEST(Metrics, AnUndeclaredHandleRecordsNothing) {
  const Counter c;
  c.inc();
  EXPECT_EQ(c.value(), 0);
  const Histogram h;
  h.observe(1ms);
  EXPECT_EQ(h.count(), 0);
}

TEST(Metrics, CollectorsWriteAfterTheDeclaredFamilies) {
  Registry r;
  r.counter("a_total", "A.").inc();
  r.collect([](Writer& w) {
    w.family("b_bytes", "B.", "gauge");
    const std::array<std::pair<std::string_view, std::string_view>, 1> labels = {{{"kind", "rss"}}};
    w.sample("b_bytes", 1.5e9, labels);
  });
  const auto text = r.expose();
  EXPECT_LT(text.find("a_total 1"),
            text.find("# HELP b_bytes B.\n# TYPE b_bytes gauge\nb_bytes{kind=\"rss\"} "
                      "1500000000\n"))
      << text;
  EXPECT_NE(text.find("b_bytes{kind=\"rss\"} 1500000000\n"), std::string::npos) << text;
}

TEST(Metrics, TwoRegistriesOnOneThreadKeepTheirOwnCounts) {
  Registry a, b;
  const auto ca = a.counter("n_total", "N.");
  const auto cb = b.counter("n_total", "N.");
  for (int i = 0; i < 3; ++i) {
    ca.inc();
    cb.inc(10);
  }
  EXPECT_EQ(ca.value(), 3);
  EXPECT_EQ(cb.value(), 30);
}

// A thread's block spans the registry's whole capacity (16,384 cells, 128 KiB by default), but only the pages
// holding cells it recorded may become resident: a server's threads declare a few hundred cells.
TEST(Metrics, AThreadsBlockIsResidentOnlyWhereItsCellsAre) {
  Registry r;
  const auto c = r.counter("n_total", "N.");
  const auto h = r.histogram("d_seconds", "D.", latency_buckets());
  c.inc();
  h.observe(1ms);
  detail::Cell* block = detail::cells(r);
  EXPECT_EQ(test_support::resident_pages(block, 16384 * sizeof(detail::Cell)), 1U)
      << "the block's untouched cells were written when it was made";
  EXPECT_EQ(c.value(), 1);
  EXPECT_EQ(h.count(), 1);
}

}  // namespace
}  // namespace cachelab::metrics
