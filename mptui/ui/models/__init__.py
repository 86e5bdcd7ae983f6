"""The tabs' models: their state and logic with no widgets (nothing here imports textual; a test
checks it), as `mptui.services.ota.fleet.OtaFleet` is the OTA tab's. The widgets show a model
and turn keys into its calls."""
