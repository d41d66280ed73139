-- Share of delivered rows quarantined, per delivery date (loaded deliveries).
SELECT delivery_date,
       sum(rows_quarantined) / nullif(sum(rows_received), 0) AS quarantine_rate
FROM deliveries
WHERE status = 'loaded'
GROUP BY delivery_date
ORDER BY delivery_date;
