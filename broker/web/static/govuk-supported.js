// GOV.UK Frontend's test of browser support, as its docs give it inline (the page's policy allows
// only scripts from this site, so it is a file): components run only where ES modules do.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
