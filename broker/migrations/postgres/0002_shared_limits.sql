-- Rate-limit counters shared by all replicas (fixed windows). Only the PostgreSQL backend has
-- them: a single SQLite broker counts in memory.
CREATE TABLE refresh_counts (
    grant_id BYTEA PRIMARY KEY REFERENCES grants (id) ON DELETE CASCADE,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL
);

CREATE TABLE failed_lookups (
    addr TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL
);
CREATE INDEX failed_lookups_window_start ON failed_lookups (window_start);
