-- A token's reach is explicit: every region (all_regions), or its listed teams and regions.
-- Before this, an empty list meant "every region", so a coordinator created without regions
-- silently reached all of them; now such a token cannot be created.
ALTER TABLE api_tokens ADD COLUMN all_regions boolean NOT NULL DEFAULT false;

-- Tokens created with empty lists had that reach implicitly: it becomes an explicit grant, so
-- nobody loses access in the upgrade (`batonctl token list` shows which they are).
UPDATE api_tokens SET all_regions = true WHERE teams = '{}' AND regions = '{}';

ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_reach_check CHECK (all_regions OR teams <> '{}' OR regions <> '{}');
