"""Job metrics read from the database at scrape time, so they are right whichever worker ran the job."""

import time

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from backend.jobs.status import job_health


class JobCollector:
    def collect(self):
        runs = CounterMetricFamily(
            "greenloop_job_runs", "Successful runs of each scheduled job.", labels=["job"]
        )
        failures = CounterMetricFamily(
            "greenloop_job_failures", "Failed attempts of each scheduled job.", labels=["job"]
        )
        last = GaugeMetricFamily(
            "greenloop_job_last_success_timestamp_seconds", "When each job last succeeded.", labels=["job"]
        )
        lag = GaugeMetricFamily(
            "greenloop_job_lag_seconds",
            "Seconds since each job last succeeded, or since a worker registered it (since the epoch if none did).",
            labels=["job"],
        )
        late = GaugeMetricFamily(
            "greenloop_job_late",
            "1 when a job's last success is older than its schedule allows.",
            labels=["job"],
        )
        for job in job_health():
            runs.add_metric([job.name], job.runs)
            failures.add_metric([job.name], job.failures)
            stamp = job.last_success_at.timestamp() if job.last_success_at else 0
            last.add_metric([job.name], stamp)
            lag.add_metric([job.name], job.lag_s if job.lag_s is not None else time.time())
            late.add_metric([job.name], 1 if job.late else 0)
        yield from (runs, failures, last, lag, late)
