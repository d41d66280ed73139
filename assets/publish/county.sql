-- The county code table of a published file; $county_codes/$county_names come from the registry's
-- wenzhou_county code list.
CREATE OR REPLACE TABLE county AS
SELECT unnest($county_codes::VARCHAR[]) AS county_code,
       unnest($county_names::VARCHAR[]) AS county_name;
