-- JSON Lines batch `_popbase_lines(source_row, line)`: which lines are JSON objects.
-- CASE keeps json_type() away from lines that are not valid JSON (it would raise).
CREATE OR REPLACE TEMP TABLE _popbase_jsonl AS
SELECT source_row, line,
       CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END AS is_object
FROM _popbase_lines;
