-- 002: indexes for the catalog analytics API.
-- Trigram index over name + description: serves case-insensitive substring search (ILIKE '%q%') once the
-- query has 3 or more characters; shorter ones fall back to a scan, which is what the planner should do.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX products_search_trgm_idx ON products USING gin ((name || ' ' || description) gin_trgm_ops);
-- Lets the per-product review aggregation (categories, top products) read ratings from the index alone.
CREATE INDEX reviews_product_rating_idx ON reviews (product_id, rating);
