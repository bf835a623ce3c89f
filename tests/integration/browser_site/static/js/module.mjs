// Module scripts are always fetched in CORS mode.
window.moduleRan = true;
