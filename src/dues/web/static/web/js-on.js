/* Marks the page as scripted before it is drawn (the CSS shows script-only controls under html.js): a file,
   not an inline script, because the Content-Security-Policy allows scripts from the app's own files only. */
document.documentElement.classList.add("js");
