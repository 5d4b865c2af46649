// A module whose evaluation throws: importing it fails.
throw new Error('this module fails as it loads');
