-- Digest editions are no longer made for a period with no papers on the feed.
--
-- Before, `digest send` (or the schedule) froze an edition even when its period had no papers,
-- and the frozen empty list stopped papers imported for that period later from ever going out.
-- An empty edition queued no mail, so forgetting it loses nothing: the period's edition is made
-- afresh, from the papers it has then, the next time it is sent.

DELETE FROM edition
WHERE paper_ids = '[]'
  AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.edition_id = edition.edition_id);
