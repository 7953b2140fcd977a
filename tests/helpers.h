/* Worker programs the tests run: test-runner --helper NAME [ARGS]. */
HELPER(env)
HELPER(crash)
HELPER(ignore_term)
HELPER(counter)
HELPER(ready_then_exit)
HELPER(never_ready)
HELPER(status_then_crash)
