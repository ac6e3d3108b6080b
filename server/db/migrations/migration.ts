/** The shape of one migration, apart from the list (index.ts imports every migration, which import this). */
export interface Migration {
  version: number
  name: string
  up: string
}
