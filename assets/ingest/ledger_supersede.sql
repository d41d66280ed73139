-- A later delivery with the same feed and date replaced this one.
UPDATE ops.deliveries SET status = 'superseded' WHERE delivery_id = $delivery_id;
