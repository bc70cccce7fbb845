-- The queue bench's shape of the README: a tenth of the closed cases to Institutional
-- Services (devon), a fifth of Client Support's closed ones to maria, and answered hand-offs
-- from Client Support to Institutional on a fifteenth of its closed cases.
\set ON_ERROR_STOP on
BEGIN;
UPDATE casedesk_case SET department_id = 2, owner_id = 5
 WHERE state IN ('resolved', 'denied') AND id % 10 = 1 AND department_id = 1;
UPDATE casedesk_case SET owner_id = 2
 WHERE state IN ('resolved', 'denied') AND id % 5 = 2 AND department_id = 1;
INSERT INTO casedesk_handoff (case_id, from_department_id, to_department_id, requested_by_id,
  accountable_id, request, shared_summary, state, answer, created_at, closed_at, due_at, warn_at,
  escalation_level, at_top_of_chain)
SELECT c.id, 1, 2, c.owner_id, 9 + c.id % 3, 'Please confirm the member accounts on your side.',
  'The client''s billing moves between our departments.', 'completed', 'Confirmed.',
  c.created_at + interval '3 hours', c.closed_at, NULL, NULL, 0, false
FROM casedesk_case c
WHERE c.department_id = 1 AND c.state IN ('resolved', 'denied') AND c.id % 15 = 0
  AND NOT EXISTS (SELECT 1 FROM casedesk_handoff h WHERE h.case_id = c.id);
COMMIT;
ANALYZE;
