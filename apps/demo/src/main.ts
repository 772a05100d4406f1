import { runDemo } from './demo.ts'

runDemo()
