#include "db/seed.hpp"

#include "db/sync_pg.hpp"

#include <fmt/format.h>

#include <array>
#include <random>
#include <string_view>

namespace cachelab::db {
namespace {

// Bump when the generator changes, so `cachelab seed` reloads instead of keeping an older data set.
constexpr int seed_version = 1;
constexpr int products_per_scale = 500;
constexpr int reviews_per_scale = 5000;

struct CategorySpec {
  std::string_view name;
  std::string_view description;
  std::array<std::string_view, 10> nouns;
  int min_cents;
  int max_cents;
};

constexpr std::array<CategorySpec, 10> categories = {{
    {"Electronics",
     "Gadgets, audio and computer accessories",
     {"Headphones", "Speaker", "Charger", "Keyboard", "Mouse", "Monitor", "Webcam", "Router", "Smartwatch",
      "Power Bank"},
     999,
     49999},
    {"Books",
     "Fiction, non-fiction and reference",
     {"Novel", "Cookbook", "Field Guide", "Biography", "Atlas", "Poetry Collection", "Textbook",
      "Graphic Novel", "Travel Guide", "Anthology"},
     499,
     5999},
    {"Home & Kitchen",
     "Cookware, appliances and storage",
     {"Skillet", "Kettle", "Cutting Board", "Knife Set", "Blender", "Coffee Grinder", "Dutch Oven", "Toaster",
      "Mixing Bowl", "Spice Rack"},
     799,
     29999},
    {"Sports & Outdoors",
     "Camping, fitness and cycling gear",
     {"Tent", "Backpack", "Water Bottle", "Yoga Mat", "Trekking Poles", "Sleeping Bag", "Headlamp",
      "Dumbbell Set", "Bike Helmet", "Running Vest"},
     999,
     39999},
    {"Toys & Games",
     "Puzzles, board games and building sets",
     {"Puzzle", "Board Game", "Building Set", "Kite", "Plush Bear", "Card Game", "Train Set", "Dollhouse",
      "Marble Run", "Science Kit"},
     599,
     14999},
    {"Clothing",
     "Everyday wear and outerwear",
     {"Jacket", "Hoodie", "T-Shirt", "Jeans", "Raincoat", "Sweater", "Scarf", "Beanie", "Socks", "Chinos"},
     899,
     24999},
    {"Beauty",
     "Skin, hair and body care",
     {"Face Cream", "Shampoo", "Lip Balm", "Serum", "Sunscreen", "Hand Lotion", "Body Wash", "Hair Oil",
      "Face Mask", "Cleanser"},
     399,
     8999},
    {"Garden",
     "Tools and supplies for the garden",
     {"Hose", "Pruning Shears", "Planter", "Watering Can", "Seed Tray", "Rake", "Trowel", "Compost Bin",
      "Garden Gloves", "Bird Feeder"},
     499,
     19999},
    {"Automotive",
     "Car care and accessories",
     {"Floor Mats", "Jump Starter", "Tire Inflator", "Dash Cam", "Car Vacuum", "Seat Cover", "Wiper Blades",
      "Phone Mount", "Tool Kit", "Cargo Organizer"},
     699,
     29999},
    {"Grocery",
     "Pantry staples and treats",
     {"Olive Oil", "Coffee Beans", "Green Tea", "Dark Chocolate", "Pasta", "Honey", "Granola", "Rice",
      "Maple Syrup", "Hot Sauce"},
     199,
     3999},
}};

constexpr std::array<std::string_view, 12> brands = {"Northwind",  "Acme",     "Bluebird", "Summit",
                                                     "Harbor",     "Oakridge", "Lumen",    "Kestrel",
                                                     "Maple & Co", "Vertex",   "Fjord",    "Copperline"};
constexpr std::array<std::string_view, 14> adjectives = {
    "Classic", "Compact", "Premium",   "Everyday", "Deluxe",  "Lightweight", "Rugged",
    "Eco",     "Pro",     "Essential", "Smart",    "Vintage", "Ultra",       "Portable"};
constexpr std::array<std::string_view, 8> uses = {
    "daily use",     "small spaces", "weekend trips",    "gifting",
    "busy mornings", "long days",    "the whole family", "beginners and experts alike"};
constexpr std::array<std::string_view, 8> features = {
    "Built to last with a two-year warranty", "Tested by our team for a full season",
    "Easy to clean and simple to store",      "Designed with recycled materials where possible",
    "Ships in plastic-free packaging",        "Backed by hundreds of five-star reviews",
    "Comes with a quick-start guide",         "Balanced for comfort and performance"};
constexpr std::array<std::string_view, 5> good_titles = {"Love it", "Exactly as described", "Great value",
                                                         "Would buy again", "Better than expected"};
constexpr std::array<std::string_view, 5> bad_titles = {"Disappointed", "Not as pictured", "Broke quickly",
                                                        "Returned it", "Just okay"};
constexpr std::array<std::string_view, 6> bodies = {
    "Arrived quickly and works as promised.", "The quality is about what I expected for the price.",
    "I have used it every day for a month.",  "Packaging was good and setup took minutes.",
    "My second one; the first lasted years.", "Customer service answered within a day."};

// mt19937_64's output sequence is fixed by the standard; the distributions are not, so we reduce it
// ourselves.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}
  std::uint64_t below(std::uint64_t n) { return gen_() % n; }
  template <class A>
  auto pick(const A& a) {
    return a[below(a.size())];
  }

 private:
  std::mt19937_64 gen_;
};

std::string timestamp(std::int64_t seconds_after_2023) {
  // 2023-01-01T00:00:00Z is 1672531200 s after the epoch; PostgreSQL parses the epoch form via to_timestamp,
  // but COPY wants text, so format it in UTC ourselves.
  std::time_t t = 1672531200 + seconds_after_2023;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}+00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace

SeedCounts seed_counts(int scale) {
  return SeedCounts{static_cast<std::int64_t>(categories.size()),
                    static_cast<std::int64_t>(products_per_scale) * scale,
                    static_cast<std::int64_t>(reviews_per_scale) * scale, false};
}

Result<SeedCounts> seed(const std::string& conninfo, int scale, bool force, const SeedProgress& progress) {
  auto conn = SyncPg::open(conninfo);
  if (!conn) return conn.error();
  auto& pg = *conn;
  const SeedCounts want = seed_counts(scale);

  if (!force) {
    auto state = pg.query("SELECT scale, version FROM seed_state WHERE id = 1");
    if (!state) return state.error();
    if (!state->empty() && (*state)[0][0] == std::to_string(scale) &&
        (*state)[0][1] == std::to_string(seed_version)) {
      SeedCounts have = want;
      have.already_loaded = true;
      return have;
    }
  }

  const std::int64_t total = want.categories + want.products + want.reviews;
  std::int64_t done = 0;
  auto step = [&](std::int64_t n) {
    done += n;
    if (progress) progress(done, total);
  };

  if (auto r = pg.exec("BEGIN; TRUNCATE reviews, products, categories RESTART IDENTITY CASCADE"); !r)
    return r.error();
  auto fail = [&](const Error& e) -> Result<SeedCounts> {
    (void)pg.exec("ROLLBACK");
    return e;
  };

  std::string buf;
  if (auto r = pg.copy_begin("COPY categories (id, name, description) FROM STDIN"); !r)
    return fail(r.error());
  for (std::size_t i = 0; i < categories.size(); ++i) {
    buf += fmt::format("{}\t{}\t{}\n", i + 1, categories[i].name, categories[i].description);
  }
  if (auto r = pg.copy_put(buf); !r) return fail(r.error());
  if (auto r = pg.copy_end(); !r) return fail(r.error());
  step(want.categories);

  Rng rng(20240101);
  std::vector<int> quality(want.products + 1);  // each product's "true" rating, so averages differ
  constexpr std::int64_t chunk = 5000;
  if (auto r = pg.copy_begin(
          "COPY products (id, name, description, price, category_id, created_at, updated_at) FROM STDIN");
      !r) {
    return fail(r.error());
  }
  buf.clear();
  for (std::int64_t id = 1; id <= want.products; ++id) {
    const std::size_t c = rng.below(categories.size());
    const auto& cat = categories[c];
    const auto brand = rng.pick(brands);
    const auto adjective = rng.pick(adjectives);
    const auto noun = rng.pick(cat.nouns);
    const int cents = cat.min_cents + static_cast<int>(rng.below(cat.max_cents - cat.min_cents + 1));
    const auto created = timestamp(static_cast<std::int64_t>(rng.below(2 * 365 * 86400)));
    quality[id] = 1 + static_cast<int>(rng.below(5));
    std::string lower_noun(noun);
    for (auto& ch : lower_noun) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    buf += fmt::format("{}\t{} {} {} {}{}\t{} {} from {}, made for {}. {}.\t{}.{:02}\t{}\t{}\t{}\n", id,
                       brand, adjective, noun, static_cast<char>('A' + rng.below(26)), 100 + rng.below(900),
                       adjective, lower_noun, brand, rng.pick(uses), rng.pick(features), cents / 100,
                       cents % 100, c + 1, created, created);
    if (id % chunk == 0 || id == want.products) {
      if (auto r = pg.copy_put(buf); !r) return fail(r.error());
      step(id % chunk == 0 ? chunk : id % chunk);
      buf.clear();
    }
  }
  if (auto r = pg.copy_end(); !r) return fail(r.error());

  if (auto r = pg.copy_begin("COPY reviews (id, product_id, rating, title, body, created_at) FROM STDIN");
      !r) {
    return fail(r.error());
  }
  for (std::int64_t id = 1; id <= want.reviews; ++id) {
    const auto product = 1 + static_cast<std::int64_t>(rng.below(want.products));
    const int noise = static_cast<int>(rng.below(3)) - 1;
    const int rating = std::clamp(quality[product] + noise, 1, 5);
    const auto title = rating >= 3 ? rng.pick(good_titles) : rng.pick(bad_titles);
    buf += fmt::format("{}\t{}\t{}\t{}\t{}\t{}\n", id, product, rating, title, rng.pick(bodies),
                       timestamp(2 * 365 * 86400 + static_cast<std::int64_t>(rng.below(300 * 86400))));
    if (id % chunk == 0 || id == want.reviews) {
      if (auto r = pg.copy_put(buf); !r) return fail(r.error());
      step(id % chunk == 0 ? chunk : id % chunk);
      buf.clear();
    }
  }
  if (auto r = pg.copy_end(); !r) return fail(r.error());

  const std::string finish = fmt::format(
      "SELECT setval('categories_id_seq', {}); SELECT setval('products_id_seq', {});"
      "SELECT setval('reviews_id_seq', {});"
      "INSERT INTO seed_state (id, scale, version) VALUES (1, {}, {})"
      " ON CONFLICT (id) DO UPDATE SET scale = EXCLUDED.scale, version = EXCLUDED.version, loaded_at = now();"
      "COMMIT; ANALYZE categories; ANALYZE products; ANALYZE reviews;",
      want.categories, want.products, want.reviews, scale, seed_version);
  if (auto r = pg.exec(finish); !r) return fail(r.error());
  return want;
}

}  // namespace cachelab::db
