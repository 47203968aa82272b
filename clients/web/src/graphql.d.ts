// The documents in clients/operations/ are bundled as text, each with the fragments it
// spreads (build.mjs).
declare module "*.graphql" {
  const document: string;
  export default document;
}
