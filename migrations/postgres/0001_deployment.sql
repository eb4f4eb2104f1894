-- One row describing this deployment: created on first start, updated on every start.
CREATE TABLE deployment (
    id              SMALLINT    PRIMARY KEY CHECK (id = 1),
    deployment_id   TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    last_started_at TIMESTAMPTZ NOT NULL,
    starts          BIGINT      NOT NULL CHECK (starts >= 1),
    last_version    TEXT        NOT NULL
);
