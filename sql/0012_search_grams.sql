-- Customer search grams, second scheme: every run of three characters of the folded name
-- with a space in front (` ab` marks a word starting with `ab`), plus every character outside
-- ASCII and every pair with one (Chinese, Japanese and Korean words of one or two characters).
-- 0009's comment describes the first scheme (every character and pair), which stored more
-- grams and let a three-letter query match through pairs only; this rewrites every stored
-- customer's grams. Baton computes the same grams in Swift when it writes a name
-- (SearchText.grams); this function is for migrations and the test that holds the two
-- together. Characters are code points, as in Swift's grams and PostgreSQL's substr.
CREATE FUNCTION baton_search_grams(folded text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(gram ORDER BY gram COLLATE "C"), '{}')
    FROM (
        SELECT substr(' ' || folded, i, 3) AS gram FROM generate_series(1, length(folded) - 1) AS i
        UNION
        SELECT substr(folded, i, 1) FROM generate_series(1, length(folded)) AS i WHERE ascii(substr(folded, i, 1)) > 127
        UNION
        SELECT substr(folded, i, 2) FROM generate_series(1, length(folded) - 1) AS i
        WHERE substr(folded, i, 1) <> ' ' AND substr(folded, i + 1, 1) <> ' '
          AND (ascii(substr(folded, i, 1)) > 127 OR ascii(substr(folded, i + 1, 1)) > 127)
    ) AS grams
$$;

UPDATE customers SET search_grams = baton_search_grams(search_name);
