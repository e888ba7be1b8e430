"""The hull map: live coverage of the wetted surface and the gaps left in it (issue 6)."""
