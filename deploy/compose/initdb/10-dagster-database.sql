-- Runs once, when the postgres volume is first initialised: Dagster's instance storage lives in its own
-- database beside "firmsync" (DAGSTER_PG_URL points at it).
CREATE DATABASE dagster;
