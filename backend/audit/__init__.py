"""The audit trail: who changed what, from where, in a table the database will not let anyone edit.

It sits in the plumbing (`backend`), below every area, so any area, the admin and the `greenloop`
command can record into it. Actors are stored as plain values (kind, id, role), never as a foreign
key to the user model, so it depends on no area.
"""
