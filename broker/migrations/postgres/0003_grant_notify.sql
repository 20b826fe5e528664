-- Every replica keeps an in-process cache of grant rows (broker/src/store/cache.rs). A change to
-- a row, by any replica or by an operator's SQL, tells all of them to drop their copy when the
-- writing transaction commits. The payload is the row id in hex; `*` means every row.
CREATE FUNCTION oauth_broker_grant_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('oauth_broker_grants', encode(OLD.id, 'hex'));
    RETURN NULL;
END;
$$;

CREATE TRIGGER grants_changed AFTER UPDATE OR DELETE ON grants
    FOR EACH ROW EXECUTE FUNCTION oauth_broker_grant_changed();

CREATE FUNCTION oauth_broker_grants_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('oauth_broker_grants', '*');
    RETURN NULL;
END;
$$;

CREATE TRIGGER grants_truncated AFTER TRUNCATE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION oauth_broker_grants_truncated();
