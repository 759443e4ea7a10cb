import type {UatScenario} from '../scenario.js'
import {uat01} from './uat-01.js'
import {uat02} from './uat-02.js'
import {uat03} from './uat-03.js'
import {uat04} from './uat-04.js'
import {uat05} from './uat-05.js'
import {uat06} from './uat-06.js'
import {uat07} from './uat-07.js'
import {uat08} from './uat-08.js'
import {uat09} from './uat-09.js'
import {uat10} from './uat-10.js'

/** The scenarios, in catalogue order (src/core/uat/catalog.ts). */
export const UAT_SCENARIOS: readonly UatScenario[] = [uat01, uat02, uat03, uat04, uat05, uat06, uat07, uat08, uat09, uat10]
