\timing on
-- 10,000 closed Client Support cases that reach Institutional through a hand-off, and 10,000 that do not
CREATE TEMP TABLE with_reach AS SELECT case_id AS id FROM casedesk_casereach WHERE department_id = 2 ORDER BY case_id LIMIT 10000;
CREATE TEMP TABLE without_reach AS SELECT id FROM casedesk_case c WHERE department_id = 1 AND NOT EXISTS (SELECT 1 FROM casedesk_casereach r WHERE r.case_id = c.id) ORDER BY id LIMIT 10000;
\echo 'A: all indexes and the trigger, cases with reach rows'
BEGIN; UPDATE casedesk_case SET updated_at = updated_at + interval '1 second' WHERE id IN (SELECT id FROM with_reach); ROLLBACK;
BEGIN; UPDATE casedesk_case SET updated_at = updated_at + interval '1 second' WHERE id IN (SELECT id FROM with_reach); ROLLBACK;
\echo 'B: same, trigger disabled'
BEGIN; ALTER TABLE casedesk_case DISABLE TRIGGER casedesk_case_reach_keys; UPDATE casedesk_case SET updated_at = updated_at + interval '1 second' WHERE id IN (SELECT id FROM with_reach); ROLLBACK;
BEGIN; ALTER TABLE casedesk_case DISABLE TRIGGER casedesk_case_reach_keys; UPDATE casedesk_case SET updated_at = updated_at + interval '1 second' WHERE id IN (SELECT id FROM with_reach); ROLLBACK;
\echo 'C: cases without reach rows, trigger on'
BEGIN; UPDATE casedesk_case SET updated_at = updated_at + interval '1 second' WHERE id IN (SELECT id FROM without_reach); ROLLBACK;
BEGIN; UPDATE casedesk_case SET updated_at = updated_at + interval '1 second' WHERE id IN (SELECT id FROM without_reach); ROLLBACK;
\echo 'D: cases without reach rows, trigger off'
BEGIN; ALTER TABLE casedesk_case DISABLE TRIGGER casedesk_case_reach_keys; UPDATE casedesk_case SET updated_at = updated_at + interval '1 second' WHERE id IN (SELECT id FROM without_reach); ROLLBACK;
BEGIN; ALTER TABLE casedesk_case DISABLE TRIGGER casedesk_case_reach_keys; UPDATE casedesk_case SET updated_at = updated_at + interval '1 second' WHERE id IN (SELECT id FROM without_reach); ROLLBACK;
\echo 'E: without reach rows, trigger off, without the two priority indexes'
BEGIN; ALTER TABLE casedesk_case DISABLE TRIGGER casedesk_case_reach_keys; DROP INDEX case_dept_prio_due_idx; DROP INDEX case_owner_prio_due_idx; UPDATE casedesk_case SET updated_at = updated_at + interval '1 second' WHERE id IN (SELECT id FROM without_reach); ROLLBACK;
BEGIN; ALTER TABLE casedesk_case DISABLE TRIGGER casedesk_case_reach_keys; DROP INDEX case_dept_prio_due_idx; DROP INDEX case_owner_prio_due_idx; UPDATE casedesk_case SET updated_at = updated_at + interval '1 second' WHERE id IN (SELECT id FROM without_reach); ROLLBACK;
