-- 001: the product catalog. Applied once by `cachelab migrate` (or at `cachelab serve` start-up).
CREATE TABLE categories (
    id          serial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT ''
);

CREATE TABLE products (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    price       numeric(10,2) NOT NULL CHECK (price >= 0),
    category_id integer NOT NULL REFERENCES categories (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Serves the joins and per-category aggregations.
CREATE INDEX products_category_id_idx ON products (category_id);

CREATE TABLE reviews (
    id          bigserial PRIMARY KEY,
    product_id  bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    rating      smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title       text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Serves per-product review aggregation and the foreign key's cascading delete.
CREATE INDEX reviews_product_id_idx ON reviews (product_id);

-- What `cachelab seed` loaded, so a second run can tell the data set is already there.
CREATE TABLE seed_state (
    id          integer PRIMARY KEY CHECK (id = 1),
    scale       integer NOT NULL,
    version     integer NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);
