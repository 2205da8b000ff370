"""anybox_buildbot."""
