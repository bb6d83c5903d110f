// Vite's `?worker&url` import (a worker built by Vite, as its URL): only the traced benchmark page uses one.
declare module '*?worker&url' {
  const url: string;
  export default url;
}
