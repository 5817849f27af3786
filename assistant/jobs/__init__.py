"""The jobs core: the job table, durable timers, the outbox and the scheduler.

    table        JobSpec and JobTable: every job by name, with its retry policy
    timers       durable timers and their index by due time
    unit         the unit of work: one transaction; due timers handed out after commit
    firing       ``timers.fire``: run a job once; attempts, back-off, failed and dead
    deadletters  the admins told, once, of a dead timer
    scheduler    the loop that hands out what fell due and what lost its lease
    outbox       messages to people, written with the change that causes them

Every context registers its jobs from the composition root
(:func:`assistant.bootstrap.job_table`); nothing but the unit of work and the
scheduler enqueues work.
"""
