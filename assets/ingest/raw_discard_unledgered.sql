-- Rows of {raw} (raw.<feed>) whose delivery the ledger does not hold as loaded: what a failed or
-- killed load wrote before it stopped. {raw} is the registry's table name, the feed a parameter.
DELETE FROM {raw}
WHERE delivery_id NOT IN (
    SELECT delivery_id FROM ops.deliveries WHERE feed = $feed AND status = 'loaded'
);
