// A classic script without crossorigin: fetched in no-cors mode, runs anyway.
window.classicRan = true;
