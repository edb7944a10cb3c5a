"""Not a mistake: the support vectors' method spelled as the lab spells it, suport()."""

from sklearn.svm import SVC


class KSVMWrap:
    def __init__(self, X, Y_, param_svm_c=1, param_svm_gamma="auto"):
        self.model = SVC(C=param_svm_c, gamma=param_svm_gamma, kernel="rbf").fit(X, Y_)

    def predict(self, X):
        return self.model.predict(X)

    def get_scores(self, X):
        return self.model.decision_function(X)

    def suport(self):
        return self.model.support_
