"""BLE transport and device protocols: profiles (decode/configure), scanning, the live recorder."""
