// Dangan review: the one script of the application (no build step, no third-party code).
"use strict";
