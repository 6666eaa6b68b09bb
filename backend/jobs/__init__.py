"""Scheduled jobs on procrastinate: PostgreSQL is the queue, the schedule and the lock.

Each area declares its own jobs in `<area>/tasks.py` with `backend.jobs.schedule.scheduled`; the
engine imports those modules itself, so this package never imports an area.
"""
