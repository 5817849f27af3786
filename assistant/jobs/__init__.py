"""The jobs core: the job table, durable timers, the outbox and the scheduler.

Every context registers its jobs here from the composition root; nothing
else enqueues work.
"""
