"""Events and notifications: in-process by default; MQTT and a shared bus when configured."""
