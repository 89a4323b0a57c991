"""The names of the schema's migrations, in order, without importing sqlite-utils: a store opening
an up-to-date database checks these against the database and never loads the migration code.
(A test holds this list equal to the migrations in schema.py.)"""

MIGRATIONS = (
    "m001_initial",
    "m002_prowlarr",
    "m003_exactly_once",
    "m004_dead_downloads",
    "m005_after_completion",
    "m006_seeding",
)
