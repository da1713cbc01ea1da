"""The camera agent: capture loop, local spool (store-and-forward), uploader, heartbeat, MQTT."""
