// Start every GOV.UK Frontend component on the page (the error summary takes focus, passwords can be
// shown). Pages work without it: each component only adds to what the HTML already does.
import { initAll } from '/govuk/govuk-frontend.min.js'

initAll()
