-- data_dictionary: the comment of every table, view and column of the file opened directly
-- (current_database()). One row per table or view (column_name NULL), then one per column.
CREATE OR REPLACE VIEW data_dictionary AS
SELECT table_name, column_name, data_type, comment
FROM (
    SELECT table_name, NULL::VARCHAR AS column_name, 'TABLE' AS data_type, comment, -1 AS position
    FROM duckdb_tables()
    WHERE database_name = current_database() AND schema_name = 'main'
    UNION ALL
    SELECT view_name, NULL, 'VIEW', comment, -1
    FROM duckdb_views()
    WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
    UNION ALL
    SELECT table_name, column_name, data_type, comment, column_index
    FROM duckdb_columns()
    WHERE database_name = current_database() AND schema_name = 'main'
)
ORDER BY table_name, position;
