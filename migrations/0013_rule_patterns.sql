-- Attribution rules match how ledgers are coded (issue 22): each code column (cost centre, account, task field,
-- creditor number) holds a pattern: an exact value, a list, a prefix (`6.1-INB-*`) or a numeric range
-- (`4300-4399`); see domain::attribution::Pattern. The columns keep their text. An existing exact value that
-- would now read as a list, prefix or range is put in double quotes, which the syntax takes as exactly that
-- value, so every existing rule matches what it matched before.
ALTER TABLE attribution_rule ADD COLUMN amount_sign TEXT NOT NULL DEFAULT 'both'
    CHECK (amount_sign IN ('both', 'invoices', 'credit_notes'));

UPDATE attribution_rule SET cost_centre = '"' || cost_centre || '"'
WHERE cost_centre GLOB '*[,*"]*' OR (cost_centre GLOB '[0-9]*-*[0-9]' AND NOT cost_centre GLOB '*[^0-9 -]*');
UPDATE attribution_rule SET gl_account = '"' || gl_account || '"'
WHERE gl_account GLOB '*[,*"]*' OR (gl_account GLOB '[0-9]*-*[0-9]' AND NOT gl_account GLOB '*[^0-9 -]*');
UPDATE attribution_rule SET task_field = '"' || task_field || '"'
WHERE task_field GLOB '*[,*"]*' OR (task_field GLOB '[0-9]*-*[0-9]' AND NOT task_field GLOB '*[^0-9 -]*');
UPDATE attribution_rule SET creditor_number = '"' || creditor_number || '"'
WHERE creditor_number GLOB '*[,*"]*'
   OR (creditor_number GLOB '[0-9]*-*[0-9]' AND NOT creditor_number GLOB '*[^0-9 -]*');
